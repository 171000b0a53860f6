# capsize: `make run` sets up, builds and runs the main job; `make test` sets up and runs the tests.
SHELL := /bin/bash
# No OPENBLAS_CORETYPE here: capsize chooses OpenBLAS's kernels from CPUID itself (a user's value is kept).
RELEASE := .build/release/capsize
REPORT ?= capsize-report

.PHONY: all setup setup-run build release run test lint format bench clean slurm-down
all: run

# What the tests need besides the build (Chromium, cfn-lint) is installed for `make test` only.
setup:
	@scripts/setup.sh

setup-run:
	@scripts/setup.sh run

build: setup
	swift build

release: setup-run
	swift build -c release

# The main job: the default suite compiled into capsize (`capsize run`, see docs/suites.md) after the machine's
# peaks are calibrated: both workloads benched on the CPU and on a GPU (PoCL's OpenCL CPU device standing in when
# there is none, said so), train-mlp as Lambda-model functions at two memory sizes with where their caps break (the
# 900 s timeout scaled to 5 s), as Batch-model array jobs, and where 10,000 frames should run (with its deployment
# files). The report directory $(REPORT)/ gets report.html (charts), report.md, results.json and results.csv.
run: release
	$(RELEASE) devices --calibrate --quick
	$(RELEASE) run --out $(REPORT)
	@echo "open $(REPORT)/report.html; every run is in the store: $(RELEASE) runs list"

# The --backend slurm tests need a running single-node Slurm: started here as root (about 1 s once the packages
# are in; they fail without it), skipped by them as another user when none answers.
test: setup
	@scripts/slurm.sh up || [ "$$(id -u)" != 0 ]
	swift build --build-tests
	swift test --skip-build

# The style the repository keeps (.swift-format: 4 spaces, 120 columns, ordered imports): `make format` applies it.
SWIFT_SOURCES := Sources Tests Plugins Package.swift Benchmarks/Package.swift Benchmarks/Benchmarks
# Also: nothing committed points at files outside the repository (a sibling shared/ or reference/ folder); the
# brackets keep this line from matching itself.
lint:
	swift format lint --strict --recursive $(SWIFT_SOURCES)
	@! git grep -n -I -e '\.\.[/]shared' -e '[s]hared/reference' -e '^[s]hared/' -- . || \
		{ echo "lint: the lines above point outside the repository; cite the page or copy what is needed" >&2; exit 1; }

format:
	swift format format --in-place --recursive $(SWIFT_SOURCES)

# Benchmarks of capsize itself and peers run side by side (numbers go into Benchmarks/RESULTS.md).
bench: release
	Benchmarks/mlp-peer.sh

# Stops the test cluster `make test` started (scripts/slurm.sh status says what runs).
slurm-down:
	@scripts/slurm.sh down

clean:
	rm -rf .build $(REPORT)
