# Parcero: the two commands. Both set up what is missing first (see packaging/bootstrap.sh).
#   make run                 open the window (or: make run ARGS="transcribe audio.wav --model DIR")
#   make test                run the tests (make test ARGS="-k waveform -x")
#   make lock                refresh constraints.txt (the exact versions installed) on purpose, then test
#   make clean               remove .venv and caches

ARGS ?=

.PHONY: run test lock clean

run:
	@bash packaging/bootstrap.sh run $(ARGS)

test:
	@bash packaging/bootstrap.sh test $(ARGS)

lock:
	@bash packaging/bootstrap.sh lock $(ARGS)

clean:
	rm -rf .venv .pytest_cache build dist *.egg-info
	find . -type d -name __pycache__ -prune -exec rm -rf {} +
