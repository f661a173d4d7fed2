package main

import "shakedown/boards/firmware/test/internal/cgen"

func main() { cgen.Main("vectorgen", generate) }
