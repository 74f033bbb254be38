"""``dr-gitops export``: write the models and jobs of a DataRobot account as manifests.

Public surface::

    Exporter(client, ExportSettings(out=Path("repo"), namespace=None)).run() -> ExportReport
    slugify(display_name, fallback) -> str          # metadata.name from a display name

Modules: :mod:`.selection` (what to export, owned or not, names), :mod:`.documents` and
:mod:`.drafts` (live values → manifest documents), :mod:`.yamltext` (YAML with comments),
:mod:`.folder` (the folder on disk), :mod:`.exporter` (the run), :mod:`.report` and
:mod:`.readme` (what it tells the user).
"""

from controller.engine.export.exporter import Exporter, ExportSettings
from controller.engine.export.naming import slugify
from controller.engine.export.report import ExportedObject, ExportFailure, ExportReport
from controller.engine.export.selection import Skipped

__all__ = [
    "ExportFailure",
    "ExportReport",
    "ExportSettings",
    "ExportedObject",
    "Exporter",
    "Skipped",
    "slugify",
]
