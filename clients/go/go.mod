// The Go client as a module. There is no module proxy here: every dependency comes from
// Debian's packaged sources (/usr/share/gocode/src), and modules that Debian's grpc-go and
// genproto go.mod files name but no package here imports are go.mod-only stand-ins in
// debian/stubs/ (see debian/README.md). With a module proxy instead, drop the replace
// directives and run `go mod tidy`.
module csp-commerce/clients/go

go 1.19

require (
	google.golang.org/genproto v0.0.0-20200526211855-cb27e3aa2013
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)

require (
	github.com/golang/protobuf v1.5.2 // indirect
	golang.org/x/net v0.7.0 // indirect
	golang.org/x/sys v0.5.0 // indirect
	golang.org/x/text v0.7.0 // indirect
)

// Debian bookworm: golang-google-grpc-dev 1.33.3, golang-google-protobuf-dev 1.28.1,
// golang-google-genproto-dev 0.0~git20200413, golang-github-golang-protobuf-1-5-dev 1.5.2,
// golang-golang-x-{net,sys,text}-dev, golang-github-google-go-cmp-dev.
replace (
	github.com/golang/protobuf => /usr/share/gocode/src/github.com/golang/protobuf
	github.com/google/go-cmp => /usr/share/gocode/src/github.com/google/go-cmp
	golang.org/x/net => /usr/share/gocode/src/golang.org/x/net
	golang.org/x/sys => /usr/share/gocode/src/golang.org/x/sys
	golang.org/x/text => /usr/share/gocode/src/golang.org/x/text
	google.golang.org/genproto => /usr/share/gocode/src/google.golang.org/genproto
	google.golang.org/grpc => /usr/share/gocode/src/google.golang.org/grpc
	google.golang.org/protobuf => /usr/share/gocode/src/google.golang.org/protobuf
)

// Named only by go.mod files of the packages above; nothing here imports them.
replace (
	github.com/cncf/udpa/go => ./debian/stubs/github.com/cncf/udpa/go
	github.com/envoyproxy/go-control-plane => ./debian/stubs/github.com/envoyproxy/go-control-plane
	github.com/golang/glog => ./debian/stubs/github.com/golang/glog
	github.com/google/uuid => ./debian/stubs/github.com/google/uuid
	golang.org/x/lint => ./debian/stubs/golang.org/x/lint
	golang.org/x/mod => ./debian/stubs/golang.org/x/mod
	golang.org/x/oauth2 => ./debian/stubs/golang.org/x/oauth2
	golang.org/x/term => ./debian/stubs/golang.org/x/term
	golang.org/x/tools => ./debian/stubs/golang.org/x/tools
	honnef.co/go/tools => ./debian/stubs/honnef.co/go/tools
)
