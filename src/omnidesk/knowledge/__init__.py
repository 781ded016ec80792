"""Knowledge base: articles, search and suggestions."""
