"""The vendor adapters, one package each: ``<vendor>/adapter.py`` (the ``CrmAdapter``),
``<vendor>/query.py`` (pure query builders) and ``<vendor>/settings.py`` (the settings
model). ``crm.registry`` imports a vendor's package on first use; nothing here imports them
all, so a deployment loads only the CRMs it uses."""

__all__: list[str] = []
