"""kitlib: a webinar and resource-kit library.

Packages by job, from the top down (``make lint`` checks the layers with import-linter):
``web``, ``cli`` and ``jobs.worker`` call ``services``; services use ``jobs.queue``, ``search``,
``extract``, ``storage``, ``access``, ``media`` and ``db``; everything may use ``models``,
``settings``, ``errors``, ``formats``, ``i18n`` and ``urls`` (the paths links carry).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
