package main

import (
	"github.com/spf13/pflag"
)

// The flag names every command shares, one meaning each:
//
//	--out PATH        where the command writes its results (a file; a folder
//	                  for test and demo)
//	--profile NAME    a protocol profile: noise, seed, psk, tls
//	--board NAME      a board profile; --board-file a board profile YAML file
//	--fixture-seed S  the seed a fixture set is built from (fixtures gen
//	                  calls it --seed: it is that command's subject)
//	--X-timeout D     a deadline named by what it bounds: --handshake-timeout,
//	                  --step-timeout, --cell-timeout, --ack-timeout
//
// renamed keeps the old name of a renamed flag working, hidden from the
// help, with a note to use the new one.
func renamed(fs *pflag.FlagSet, old, name string) {
	f := fs.Lookup(name)
	fs.Var(f.Value, old, f.Usage)
	o := fs.Lookup(old)
	o.DefValue, o.NoOptDefVal = f.DefValue, f.NoOptDefVal
	fs.MarkDeprecated(old, "use --"+name)
}
