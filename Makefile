# The two commands of ketenhub (see README.md):
#   make run    the hub on the embedded broker, with the demo partners
#   make test   the whole test suite (sanitizer build, real Apache Kafka, fuzzing)
# Both install what they need on a fresh Debian machine and may be rerun.
BUILD ?= build

.PHONY: run test build deps clean

run: build
	deploy/demo/run.sh $(BUILD)

test: build
	tests/run.sh $(BUILD)

build: deps
	cmake -S . -B $(BUILD) -DKH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(BUILD) -j2

deps:
	deploy/install-deps.sh

clean:
	rm -rf $(BUILD)
