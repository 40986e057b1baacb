"""What a search means and the names it suggests: the query, the page of hits, the catalog for autocomplete."""
