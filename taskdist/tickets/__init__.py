"""Reading ticket files: discovery, frontmatter, dialects, normalisation and write-back."""
