"""The console's text catalogues: English (the reference) and German."""
