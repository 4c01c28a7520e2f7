"""The experiment page's Results tab: the significance report rendered from typed results, its
metric detail and printable view, and the words, tables and charts it shows."""
