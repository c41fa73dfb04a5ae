# spn_mm: the two commands of the README.
#   make demo   -> set up .venv if needed, then run the main job on the embedded demo data
#   make test   -> set up .venv if needed, then run the test-suite
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: install demo test env clean-venv

install:
	bash tools/install.sh

demo: install
	bash tools/run_demo.sh

test: install
	bash tools/run_tests.sh $(PYTEST_ARGS)

env: install
	$(PY) -m spn_mm.utils.collect_env

clean-venv:
	rm -rf .venv
