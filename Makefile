# capsize: `make run` sets up, builds and runs the main job; `make test` sets up and runs the tests.
SHELL := /bin/bash
# No OPENBLAS_CORETYPE here: capsize chooses OpenBLAS's kernels from CPUID itself (a user's value is kept).
RELEASE := .build/release/capsize
REPORT ?= capsize-report

.PHONY: all setup build release run test lint format bench clean slurm-down
all: run

setup:
	@scripts/setup.sh

build: setup
	swift build

release: setup
	swift build -c release

# The main job on embedded defaults: the machine and its calibrated peaks, a measured bench of both
# workloads at small sizes on the CPU and on every OpenCL device, then train-mlp as a Lambda-model
# function (cold, then warm) and as a Batch-model array job; where its Lambda caps break at two memory
# sizes (the 900 s timeout scaled to 5 s); and where 10,000 frames should run, with deployment files.
run: release
	@mkdir -p $(REPORT)
	$(RELEASE) devices --calibrate --quick
	$(RELEASE) bench train-mlp --device cpu --repeat 5
	@if $(RELEASE) devices --json | grep -q '"index" : 0'; then \
	  $(RELEASE) bench train-mlp --device opencl:0 --repeat 3; \
	  $(RELEASE) bench render-frames --device opencl:0 --repeat 3 --save-frames $(REPORT)/frames; \
	fi
	$(RELEASE) bench render-frames --device native --repeat 3
	$(RELEASE) invoke train-mlp --memory 1769 --timeout 10 --count 3
	$(RELEASE) submit --array 4 --memory 1024 -- train-mlp --steps 5 --seed '{index}'
	$(RELEASE) caps train-mlp --only-listed --memory 128,1769 --time-cap-scale 0.005 --refine 0.1
	$(RELEASE) recommend render-frames --frames 10000 --export $(REPORT)/export-$$(date +%s)
	@echo "frames written to $(REPORT)/frames/; every run is in the store: $(RELEASE) runs list"

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
