#!/bin/sh
# Regenerates the talk-off speech corpus: IVR-style phrases in several
# voices, pitches and speeds, 8 kHz mono µ-law raw (the prompt format).
# The files are committed so tests need neither espeak-ng nor sox.
# Usage: sh speech.sh   (in media/testdata; needs espeak-ng and sox)
set -e
n=0
say() { # voice pitch speed text
	n=$((n + 1))
	espeak-ng -v "$1" -p "$2" -s "$3" --stdout "$4" |
		sox -t wav - -r 8000 -c 1 -b 8 -e u-law -t raw "speech-$(printf %02d $n).ulaw"
}
say en-us 50 160 "Please enter your hot desk I D, followed by the pound key."
say en+f3 70 150 "Please enter your PIN. Wrong PIN, please try again."
say en+m3 35 170 "You are now logged in as extension one zero zero one. Goodbye."
say en-gb 60 140 "Zero. One. Two. Three. Four. Five. Six. Seven. Eight. Nine. Star. Pound."
say en+f4 90 175 "Echo test. Speak, and you will hear yourself. Press any key to end."
say en+m7 20 130 "Your call cannot be completed as dialled. Please check the number and try again."
say en+f2 80 190 "Welcome to the office phone system. For sales, press one. For support, press two."
say en-us 99 120 "Aaah. Eeeh. Oooh. Mmmm. Hello? Hello, is anybody there? Yes, yes, yes."
say en+m1 40 200 "You have been logged out because this desk was taken by another person."
say en+f5 65 145 "The extension you have dialled is not available. Please leave a message after the tone."
