"""Web pages of the runtime: the experiment page's Try-it tab (namespace ``assignment-web``)."""
