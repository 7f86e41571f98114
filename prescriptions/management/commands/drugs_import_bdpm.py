"""Load the public BDPM files (ANSM's drug database) into origami's local drug memory.

    python manage.py drugs_import_bdpm PATH [--quiet]

PATH is a folder holding the five files (``CIS_bdpm.txt``, ``CIS_CIP_bdpm.txt``,
``CIS_COMPO_bdpm.txt``, ``CIS_GENER_bdpm.txt``, ``CIS_CPD_bdpm.txt``, Windows-1252, tab-separated,
as published). Idempotent: a product already known as the files describe it is not written
again; what Ordoclic itself said of a product is kept. Prints a progress bar and a summary.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from ordoclic_client.bdpm import BdpmFilesMissing, drugs_from_bdpm
from prescriptions.drugs.memory import drugs_import, known_drug_count


class Command(BaseCommand):
    help = "Charge les fichiers publics de la BDPM dans la mémoire locale des médicaments."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="dossier des fichiers BDPM")
        parser.add_argument("--quiet", action="store_true", help="sans barre de progression")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            drugs = drugs_from_bdpm(options["path"])
        except BdpmFilesMissing as missing:
            raise CommandError(str(missing)) from None
        read = time.monotonic() - started
        with tqdm(
            total=len(drugs),
            unit=" produits",
            desc="Mémoire des médicaments",
            disable=options["quiet"] or None,  # None: only on a terminal
            # the raw stream: the command's wrapper would end each redraw with a new line
            file=self.stderr._out,
        ) as bar:
            summary = drugs_import(drugs=drugs, progress=bar.update)
        self.stdout.write(
            self.style.SUCCESS(
                f"BDPM : {summary.total} produits lus en {read:.1f} s, importés en "
                f"{time.monotonic() - started:.1f} s au total — {summary.added} ajoutés, "
                f"{summary.updated} mis à jour, {summary.unchanged} inchangés, "
                f"{summary.kept_from_ordoclic} laissés tels qu'Ordoclic les décrit. "
                f"La mémoire connaît {known_drug_count()} médicaments."
            )
        )
