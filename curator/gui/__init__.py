"""The PySide6 desktop app: a thin layer over the ``curator`` core (needs ``.[gui]``)."""
