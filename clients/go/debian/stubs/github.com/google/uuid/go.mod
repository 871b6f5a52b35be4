// A go.mod-only stand-in: see clients/go/debian/README.md.
module github.com/google/uuid
