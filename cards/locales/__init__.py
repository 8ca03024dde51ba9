"""Message catalogues, one module per language, each a flat ``MESSAGES`` dict.

To add a language, add a module with the same keys and register it in ``cards.i18n``.
"""
