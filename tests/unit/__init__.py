"""Pure parts, no process or network: decoding, content, rendering, text, series, search, lanes."""
