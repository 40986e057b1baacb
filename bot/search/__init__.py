"""What a search means and the names it suggests: the query, the hits and their page, the catalog for autocomplete."""
