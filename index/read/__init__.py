"""Read: documents of every layout into sections and tables (one reader per rendering)."""

# the file types `budgetqa index` reads: here, so choosing files needs no reader imported (0.4 s)
SUPPORTED = (".pdf", ".md", ".markdown", ".html", ".htm", ".txt", ".tsv", ".csv")
