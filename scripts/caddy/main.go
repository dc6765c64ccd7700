// Caddy's own cmd/caddy/main.go: the standard modules, nothing else (like the www/caddy port).
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

func main() {
	caddycmd.Main()
}
