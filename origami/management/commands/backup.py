"""`python manage.py backup ...`: dump, restore into a fresh database and verify, resume delivery
after a restore. The runbook is in the README ("Sauvegarde et restauration")."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from origami.backup import (
    BackupError,
    Verification,
    backup_drop,
    backup_dump,
    backup_restore,
)
from prescriptions.delivery.submissions import submissions_after_restore


class Command(BaseCommand):
    help = (
        "Sauvegarde (pg_dump, format custom) et restauration vérifiée de la base. "
        "dump | restore | check | after-restore"
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        dump = sub.add_parser("dump", help="Sauvegarder la base configurée.")
        dump.add_argument("--output", type=Path, help="Fichier (défaut : var/backups/…).")
        restore = sub.add_parser("restore", help="Restaurer dans une base neuve et vérifier.")
        restore.add_argument("dump", type=Path)
        restore.add_argument("--database", required=True, help="Base neuve (ne doit pas exister).")
        check = sub.add_parser(
            "check", help="Sauvegarder, restaurer dans une base temporaire, vérifier, supprimer."
        )
        check.add_argument("--output", type=Path)
        check.add_argument("--keep", action="store_true", help="Garder la base restaurée.")
        after = sub.add_parser(
            "after-restore",
            help="Sur la base restaurée, avant les workers : les envois en attente chercheront "
            "d'abord l'ordonnance chez Ordoclic.",
        )
        after.add_argument("--dump", default="", help="Nom de la sauvegarde (pour l'audit).")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            match action:
                case "dump":
                    self._dump(options["output"])
                case "restore":
                    self._report(backup_restore(dump=options["dump"], database=options["database"]))
                case "check":
                    self._check(options["output"], keep=options["keep"])
                case "after-restore":
                    count = submissions_after_restore(dump=options["dump"])
                    self.stdout.write(
                        self.style.SUCCESS(
                            f"{count} envoi(s) en attente marqué(s) : recherche par identifiant "
                            "externe avant tout nouvel envoi."
                        )
                    )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc

    def _dump(self, output: Path | None) -> Path:
        if output is None:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            output = Path("var/backups") / f"origami-{stamp}.dump"
        manifest = backup_dump(output=output)
        self.stdout.write(
            f"Sauvegarde : {output} ({len(manifest['tables'])} tables, "
            f"{sum(manifest['tables'].values())} lignes, "
            f"{manifest['registered_prescriptions']} ordonnances numérotées)"
        )
        return output

    def _check(self, output: Path | None, *, keep: bool) -> None:
        dump = self._dump(output)
        scratch = f"{settings.DATABASES['default']['NAME']}_restore_check"
        backup_drop(database=scratch)
        try:
            self._report(backup_restore(dump=dump, database=scratch))
        finally:
            if not keep:
                backup_drop(database=scratch)

    def _report(self, verification: Verification) -> None:
        for problem in verification.problems:
            self.stderr.write(f"  - {problem}")
        if not verification.ok:
            count = len(verification.problems)
            raise CommandError(f"Restauration NON conforme : {count} écart(s).")
        self.stdout.write(
            self.style.SUCCESS(
                f"Restauration conforme : {verification.tables} tables, "
                f"{verification.rows} lignes, "
                f"{verification.registered} ordonnances numérotées, déclencheurs append-only "
                "présents et actifs."
            )
        )
