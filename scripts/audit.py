"""`make audit`: known vulnerabilities in the locked dependencies (requirements/base.txt and
dev.txt, hashes required, nothing installed), with pip-audit.

Exit 1 when a vulnerability is found; exit 0 with a loud warning when the vulnerability service
could not be reached (no network, a package index that does not serve PyPI's JSON API: every
dependency comes back "not found"), so that an offline machine does not fail a build for it.
Not part of `make test`. PIP_AUDIT_SERVICE=osv asks OSV instead of PyPI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ["requirements/base.txt", "requirements/dev.txt"]


def main() -> int:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [str(pip_audit), "--require-hashes", "--disable-pip", "--progress-spinner", "off"]
        for requirements in REQUIREMENTS:
            command += ["-r", requirements]
        if service := os.environ.get("PIP_AUDIT_SERVICE"):
            command += ["-s", service]
        command += ["-f", "json", "-o", str(report)]
        done = subprocess.run(  # noqa: S603 - pip-audit next to our own interpreter
            command, cwd=ROOT, capture_output=True, text=True, check=False
        )
        if not report.exists():
            last = (done.stderr.strip().splitlines() or ["?"])[-1]
            print(f"make audit: the vulnerability service is unreachable, nothing audited ({last})")
            return 0
        dependencies = json.loads(report.read_text())["dependencies"]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    audited = len(dependencies) - len(skipped)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixes})")
    if dependencies and audited == 0:
        print(
            f"make audit: the vulnerability service answered for none of the {len(skipped)} "
            "locked dependencies (unreachable, or the package index does not serve its JSON "
            "API): nothing audited."
        )
        return 0
    for dependency in skipped:
        print(f"not audited: {dependency['name']} ({dependency['skip_reason']})")
    print(
        f"make audit: {audited} dependencies audited, {len(vulnerable)} vulnerable, "
        f"{len(skipped)} not audited."
    )
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
