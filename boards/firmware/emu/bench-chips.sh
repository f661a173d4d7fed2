#!/usr/bin/env bash
# emu/bench-chips.sh AVR_IMAGE CM3_IMAGE RV32_IMAGE NRF51_IMAGE STM32F4_IMAGE:
# runs test/avr/bench.c's images on the emulated chips and prints a
# Markdown table with the published anchors beside it. AVR figures are the
# chip's cycles less its Timer1 overflow interrupts (exact under simavr,
# and the same on every run whatever the timer's phase); Cortex-M3 figures
# are instructions from SysTick under -icount shift=0 (resolution 40),
# RV32 figures minstret, nRF51 (Cortex-M0) figures instructions from its
# TIMER0 under -icount shift=0 (resolution 62.5), STM32F405 figures
# instructions from TIM2 (QEMU 7.2 clocks it at 1 GHz: one tick per
# instruction under -icount shift=0).
set -euo pipefail
here=$(dirname "$0")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$here/board.sh" run atmega328p "$1" 600 >"$out/avr"
"$here/board.sh" run cortex-m3 "$2" 600 >"$out/cm3"
"$here/board.sh" run rv32 "$3" 600 >"$out/rv32"
"$here/board.sh" run nrf51 "$4" 600 >"$out/nrf51"
"$here/board.sh" run stm32f4 "$5" 600 >"$out/stm"

# value FILE OP FIELD: field 3 (count) or 4 (stack) of "bench OP ..." lines.
value() { awk -v op="$2" -v f="$3" '$1 == "bench" && $2 == op { print $f }' "$1"; }
group() { echo "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }
perbyte() { awk -v v="$1" 'BEGIN { printf "%.2f", v / 100 }'; }
ms16() { awk -v c="$1" 'BEGIN { printf "%.0f", c / 16000 }'; }

ax=$(value "$out/avr" x25519 3) ap=$(value "$out/avr" ecdh_p256 3)
as=$(value "$out/avr" ecdh_secp160r1 3) ah=$(value "$out/avr" sha256_64 3)
apb=$(value "$out/avr" aead_per_byte_x100 3)

# nrf OP FIELD: the nRF51's figure, digits grouped.
nrf() { group "$(value "$out/nrf51" "$1" "$2")"; }
# stm OP FIELD: the STM32F405's figure, digits grouped.
stm() { group "$(value "$out/stm" "$1" "$2")"; }

row() { # name avr cm3 rv32 anchor nrf51 stm32f4
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$6" "$7" "$5"
}
echo "| operation | ATmega328P, cycles (ms at 16 MHz) | Cortex-M3, instructions | RV32IMAC, instructions | nRF51 (Cortex-M0), instructions | STM32F405 (Cortex-M4), instructions | published anchor |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
row "X25519" "$(group "$ax") ($(ms16 "$ax"))" "$(group "$(value "$out/cm3" x25519 3)")" \
	"$(group "$(value "$out/rv32" x25519 3)")" \
	"AVR 13,900,397 cycles, Cortex-M0 3,589,850 cycles (Düll et al. 2015); Cortex-M4 about 626,000 cycles (Haase and Labrique 2018, ePrint 2018/286); Arduino Crypto on an Uno 2,716 ms" \
	"$(nrf x25519 3)" "$(stm x25519 3)"
row "ECDH P-256" "$(group "$ap") ($(ms16 "$ap"))" "$(group "$(value "$out/cm3" ecdh_p256 3)")" \
	"$(group "$(value "$out/rv32" ecdh_p256 3)")" "micro-ecc secp256r1, ATmega256RFR2 at 16 MHz: 2,220 ms" \
	"$(nrf ecdh_p256 3)" "$(stm ecdh_p256 3)"
row "ECDH secp160r1" "$(group "$as") ($(ms16 "$as"))" "$(group "$(value "$out/cm3" ecdh_secp160r1 3)")" \
	"$(group "$(value "$out/rv32" ecdh_secp160r1 3)")" "micro-ecc secp160r1, ATmega256RFR2 at 16 MHz: 470 ms" \
	"$(nrf ecdh_secp160r1 3)" "$(stm ecdh_secp160r1 3)"
row "ChaCha20-Poly1305, per byte" "$(perbyte "$apb")" "$(perbyte "$(value "$out/cm3" aead_per_byte_x100 3)")" \
	"$(perbyte "$(value "$out/rv32" aead_per_byte_x100 3)")" "(slope between 64 and 256 bytes, 16 B AD)" \
	"$(perbyte "$(value "$out/nrf51" aead_per_byte_x100 3)")" "$(perbyte "$(value "$out/stm" aead_per_byte_x100 3)")"
row "SHA-256 of 64 B" "$(group "$ah")" "$(group "$(value "$out/cm3" sha256_64 3)")" \
	"$(group "$(value "$out/rv32" sha256_64 3)")" "" "$(nrf sha256_64 3)" "$(stm sha256_64 3)"
row "peak stack, X25519 / ECDH (bytes)" "$(value "$out/avr" x25519 4) / $(value "$out/avr" ecdh_p256 4)" \
	"$(value "$out/cm3" x25519 4) / $(value "$out/cm3" ecdh_p256 4)" \
	"$(value "$out/rv32" x25519 4) / $(value "$out/rv32" ecdh_p256 4)" "" \
	"$(value "$out/nrf51" x25519 4) / $(value "$out/nrf51" ecdh_p256 4)" \
	"$(value "$out/stm" x25519 4) / $(value "$out/stm" ecdh_p256 4)"
echo
for f in avr cm3 rv32 nrf51 stm; do
	if grep -q ' WRONG$' "$out/$f"; then echo "bench-chips: a result was WRONG on $f" >&2; exit 1; fi
done
goal() { if [ "$1" -le "$2" ]; then echo "met"; else echo "NOT met"; fi; }
echo "Goals on the ATmega328P (issue 19): X25519 at most 16,000,000 cycles: $(goal "$ax" 16000000);" \
	"ECDH P-256 at most 71,000,000: $(goal "$ap" 71000000);" \
	"ECDH secp160r1 at most 15,000,000: $(goal "$as" 15000000)."
echo "Goal on the Cortex-M3: X25519 at most 5,000,000 instructions: $(goal "$(value "$out/cm3" x25519 3)" 5000000)."
nx=$(value "$out/nrf51" x25519 3)
echo "nRF51 (Cortex-M0): X25519 $(group "$nx") instructions, $(awk -v n="$nx" 'BEGIN { printf "%.2f", n / 3589850 }')×" \
	"Düll et al. 2015's 3,589,850 Cortex-M0 cycles (assembly; instructions are not cycles: on the M0 most take one, loads, stores and branches two or more)."
