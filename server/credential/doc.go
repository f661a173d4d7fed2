// Package credential checks the MQTT passwords of tls devices: what a
// registry stores for a password, how a CONNECT password is compared with
// it, and what that may cost the server.
//
// Device secrets are machine-generated and high-entropy, so a slow hash
// protects nothing: nobody can guess a 256-bit password, however fast the
// hash. Machine passwords are therefore stored as a keyed hash, HMAC-SHA-256
// (RFC 2104) under a server key that the registry keeps and never exports:
// a registry dump without the key gives an attacker nothing to test guesses
// against, and a check costs microseconds. Slow hashes (argon2id, bcrypt,
// and the PBKDF2-SHA512 of mosquitto's password files) are verified only
// for imported, human-chosen passwords, at most Checker's slot count at
// once: a verification that finds every slot taken is refused at once
// (ErrBusy), so a burst of wrong passwords costs bounded memory.
//
// Stored hashes name their scheme:
//
//	$hmac-sha256$k=<key id>$<tag>                   machine password (HashMachine)
//	$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<tag>   PHC string format
//	$2a$, $2b$, $2y$<cost>$<salt and hash>          bcrypt, modular crypt
//	$7$<iterations>$<salt>$<hash>                   mosquitto 2.x password file (PBKDF2-HMAC-SHA512)
//
// Checker.Check runs the same path for a device that does not exist, has
// no password, or is not a tls device (the caller passes an empty stored
// hash): an HMAC against a dummy hash, the cost of a machine password. A
// known and an unknown device ID therefore take the same time, unless the
// known device has an imported slow hash.
//
// Errors never carry a password, a hash or the device ID.
//
// Usage:
//
//	stored, err := credential.HashMachine(key, "meter-9", password) // at registration
//	chk, err := credential.NewChecker(key, credential.DefaultSlowSlots())
//	scheme, err := chk.Check("meter-9", stored, connectPassword)    // at CONNECT
package credential
