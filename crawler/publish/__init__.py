"""Publishing what changed: Atom feeds of change events (`feed`) and a self-contained HTML report
(`report`). Both read the public tables only and escape every scraped string they put out."""
