"""The About box: what Parcero is, the versions it runs on, and where its files are.

The versions (Parcero, PyTorch, CUDA, Qt, PySide6, Python, the system) come
from :func:`app.logs.versions`, the same list a crash report carries; the
device is the engine's own description of where models run. "Copy" puts the
list on the clipboard for a bug report.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.i18n import translate
from app.logs import current_log_dir, versions

PROJECT_URL = "https://github.com/parcero/parcero"
ICON_SIZE = 96


def application_icon() -> QIcon:
    """Parcero's icon at every size shipped (empty when the resources are missing)."""
    from engine.resources import icon_files

    icon = QIcon()
    for path in icon_files():
        icon.addFile(str(path))
    return icon


def version_rows(device: str | None = None) -> list[tuple[str, str]]:
    """(name, value) rows for the About box: the versions, then the device when known."""
    labels = {"System": translate("About", "System")}  # the others are names
    rows = [(labels.get(name, name), value) for name, value in versions().items()]
    if device:
        rows.append((translate("About", "Device"), device))
    return rows


def about_html(device: str | None = None) -> str:
    """The About text as HTML: name and version, what Parcero is, the version table, links."""
    rows = version_rows(device)
    table = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(v)}</td></tr>"
                    for k, v in rows if k != "Parcero")
    logs = QUrl.fromLocalFile(str(current_log_dir())).toString()
    # Translated outside the f-string: pyside6-lupdate does not look inside one.
    tagline = translate("About", "A Spanish-first workbench for Transformer speech recognition.")
    website, log_folder = translate("About", "Website and source code"), translate("About", "Log folder")
    licence = translate("About", "Free software under the MIT licence.")
    return (
        f"<h3>Parcero {html.escape(dict(rows)['Parcero'])}</h3>"
        f"<p>{tagline}</p>"
        f"<table>{table}</table>"
        f"<p><a href=\"{PROJECT_URL}\">{website}</a> · "
        f"<a href=\"{logs}\">{log_folder}</a></p>"
        f"<p>{licence}</p>"
    )


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, device: str | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("About Parcero"))
        self.device = device
        icon = QLabel()
        icon.setPixmap(application_icon().pixmap(ICON_SIZE, ICON_SIZE))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text_label = QLabel(about_html(device))
        self.text_label.setObjectName("aboutText")
        self.text_label.setTextFormat(Qt.TextFormat.RichText)
        self.text_label.setOpenExternalLinks(True)  # the web page in the browser, the log folder in the file manager
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton(self.tr("Copy versions"), QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setToolTip(self.tr("Copy the versions to the clipboard, for a bug report"))
        self.copy_button.clicked.connect(self.on_copy_button_clicked)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(icon)
        row.addWidget(self.text_label, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(buttons)

    def versions_text(self) -> str:
        return "\n".join(f"{name}: {value}" for name, value in version_rows(self.device))

    @Slot()
    def on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.versions_text())
