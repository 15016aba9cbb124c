# Thin wrapper over CMake. `make test` is what CI runs: install, build, run every test.
BUILD ?= build
CMAKE_FLAGS ?= -DMYDOCKER_WERROR=ON
JOBS ?= $(shell nproc)

.PHONY: all setup configure build test unit integration bench bench-pull demo clean format

all: build

setup:
	scripts/setup

configure:
	@if [ ! -f $(BUILD)/CMakeCache.txt ]; then cmake -S . -B $(BUILD) $(CMAKE_FLAGS); fi

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: setup
	$(MAKE) build
	cd $(BUILD) && ctest --output-on-failure --timeout 900

unit: build
	cd $(BUILD) && ctest --output-on-failure -L '^$$' -E '^integration/'

integration: build
	cd $(BUILD) && ctest --output-on-failure -R '^integration/'

bench: setup build
	cmake --build $(BUILD) --target bench

bench-pull: setup build
	cmake --build $(BUILD) --target bench-pull

demo: setup build
	scripts/demo

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h')

clean:
	rm -rf $(BUILD)
