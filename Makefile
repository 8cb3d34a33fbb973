# heed: the learner's front door. CMake does the real work (CMakeLists.txt).
#
#   make                 configure and build into build/
#   make run             the course: every lesson in order, in quick mode (figures in figures/)
#   make lesson N=06     one lesson in full (lessons/06_*/lesson.cpp); ARGS="--seed 3" passes flags
#   make exercises       your exercises (lessons/NN_topic/exercises.cpp) graded: a scoreboard
#   make test            build and run every test (installs doctest on Debian when root)
#   make test-sanitize   the tests again under AddressSanitizer + UBSan (build-asan/)
#   make test-neon       the kernels' tests on the NEON back end: built for aarch64, run under qemu
#   make test-avx2       the kernels' tests on the AVX2 back end (for AVX-512 machines, whose own build skips it)
#   make bench           kernel and autograd figures against this machine's peak, and training times
#   make install         headers, libheed.a and the CMake package into PREFIX (default ~/.local)

MAKEFLAGS += --no-print-directory

BUILD   ?= build
ASAN    ?= build-asan
NEON    ?= build-neon
AVX2    ?= build-avx2
PREFIX  ?= $(HOME)/.local
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE   ?= cmake
CONFIG  := $(if $(DOCTEST_DIR),-DDOCTEST_INCLUDE_DIR=$(DOCTEST_DIR))
DOCTEST_HEADER := $(firstword $(wildcard /usr/include/doctest/doctest.h /usr/local/include/doctest/doctest.h \
                    /opt/homebrew/include/doctest/doctest.h $(DOCTEST_DIR)/doctest/doctest.h))

.PHONY: all configure build run lesson exercises install test test-sanitize test-neon test-avx2 bench doctest clean

all: build

configure:
	@$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CONFIG) > $(BUILD).log 2>&1 || { cat $(BUILD).log; exit 1; }

build: configure
	@$(CMAKE) --build $(BUILD) -j $(JOBS)

# The lessons only, not the tests: a first `make run` does not wait for them.
# Their many small steps are ~15x slower on a busy machine when idle OpenMP
# threads spin (the default); they sleep instead unless OMP_WAIT_POLICY is set.
LESSON_ENV = OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-passive}
LESSONS = $(sort $(patsubst lessons/%/lesson.cpp,%,$(wildcard lessons/[0-9][0-9]_*/lesson.cpp)))

run: configure
	@$(CMAKE) --build $(BUILD) -j $(JOBS) --target $(foreach l,$(LESSONS),lesson_$(firstword $(subst _, ,$(l))))
	@n=0; total=$(words $(LESSONS)); start=$$(date +%s); \
	for l in $(LESSONS); do n=$$((n + 1)); \
	  printf '\n\033[1m[%d/%d] lessons/%s\033[0m\n' $$n $$total $$l; \
	  $(LESSON_ENV) ./$(BUILD)/lessons/lesson_$${l%%_*} --quick $(ARGS) || exit 1; \
	done; \
	if [ -f figures/15_finale.txt ]; then \
	  printf '\n\033[1mTo end: lesson 15'"'"'s Transformer translating sentences it never saw\033[0m\n'; \
	  printf '(after its quick training; make lesson N=15 trains it in full, to a test BLEU near 1)\n\n'; \
	  cat figures/15_finale.txt; fi; \
	echo; echo "heed: the course ran in $$(( $$(date +%s) - start )) s; its figures: figures/index.html"

lesson: configure
	@[ -n "$(N)" ] && [ -f "$$(ls lessons/$(N)_*/lesson.cpp 2>/dev/null | head -1)" ] || { \
	  echo "heed: say which lesson, e.g. make lesson N=06 (lessons: $(LESSONS))"; exit 2; }
	@$(CMAKE) --build $(BUILD) -j $(JOBS) --target lesson_$(N)
	@$(LESSON_ENV) ./$(BUILD)/lessons/lesson_$(N) $(ARGS)

# Builds the learner's exercises against their tests and prints the score;
# exits 0 whatever it is (a scoreboard is not a failure).
exercises: doctest configure
	@$(CMAKE) --build $(BUILD) -j $(JOBS) --target heed_exercises
	@./$(BUILD)/lessons/heed_exercises

install: configure
	@$(CMAKE) --build $(BUILD) -j $(JOBS) --target heed
	@$(CMAKE) --install $(BUILD) --prefix $(PREFIX)

# doctest is the one test dependency: install it when we can, else say how.
doctest:
ifeq ($(DOCTEST_HEADER),)
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "heed: installing doctest (apt-get install -y doctest-dev)"; \
	  (apt-get install -y -qq doctest-dev >/dev/null 2>&1 || \
	   (apt-get update -qq >/dev/null && apt-get install -y -qq doctest-dev >/dev/null)) || \
	  { echo "heed: apt-get could not install doctest-dev"; exit 1; }; \
	else \
	  echo "heed: the tests need doctest. Install it with one of:"; \
	  echo "    sudo apt-get install doctest-dev      (Debian, Ubuntu)"; \
	  echo "    brew install doctest                  (macOS)"; \
	  echo "    vcpkg install doctest                 (then make DOCTEST_DIR=<vcpkg>/installed/<triplet>/include)"; \
	  exit 1; \
	fi
endif

test: doctest build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-sanitize: doctest
	@$(CMAKE) -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DHEED_SANITIZE=ON $(CONFIG) > $(ASAN).log 2>&1 || { cat $(ASAN).log; exit 1; }
	@$(CMAKE) --build $(ASAN) -j $(JOBS)
	@cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# The NEON back end on any Linux machine: cross-compiled for aarch64 and run
# under qemu. Only the suites of the layers with kernels (tensor, autograd):
# nn's training tests take many minutes emulated.
test-neon: doctest
	@command -v aarch64-linux-gnu-g++ >/dev/null && command -v qemu-aarch64 >/dev/null || { \
	  echo "heed: test-neon needs an aarch64 cross compiler and qemu. Install them with:"; \
	  echo "    sudo apt-get install g++-aarch64-linux-gnu qemu-user"; exit 1; }
	@mkdir -p $(NEON)/include/doctest
	@for h in $(DOCTEST_DIR)/doctest/doctest.h /usr/include/doctest/doctest.h /usr/local/include/doctest/doctest.h; do \
	  [ -f "$$h" ] && cp "$$h" $(NEON)/include/doctest/ && break; done
	@$(CMAKE) -S . -B $(NEON) -DCMAKE_BUILD_TYPE=Release -DHEED_NATIVE=OFF -DHEED_KERNEL_LAYERS_ONLY=ON -DCMAKE_SYSTEM_NAME=Linux \
	  -DCMAKE_SYSTEM_PROCESSOR=aarch64 -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ \
	  "-DCMAKE_CROSSCOMPILING_EMULATOR=qemu-aarch64;-L;/usr/aarch64-linux-gnu" \
	  -DDOCTEST_INCLUDE_DIR=$(abspath $(NEON))/include > $(NEON).log 2>&1 || { cat $(NEON).log; exit 1; }
	@$(CMAKE) --build $(NEON) -j $(JOBS) --target test_tensor test_autograd
	@cd $(NEON) && ctest --output-on-failure -R '^(tensor|autograd)$$'

# The AVX2 back end on an x86 machine whose native build picks AVX-512.
test-avx2: doctest
	@grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo || { \
	  echo "heed: test-avx2 needs an x86 CPU with AVX2 and FMA"; exit 1; }
	@$(CMAKE) -S . -B $(AVX2) -DCMAKE_BUILD_TYPE=Release -DHEED_NATIVE=OFF -DHEED_KERNEL_LAYERS_ONLY=ON \
	  "-DCMAKE_CXX_FLAGS=-mavx2 -mfma" \
	  $(CONFIG) > $(AVX2).log 2>&1 || { cat $(AVX2).log; exit 1; }
	@$(CMAKE) --build $(AVX2) -j $(JOBS) --target test_tensor test_autograd
	@cd $(AVX2) && ctest --output-on-failure -R '^(tensor|autograd)$$'

bench: build
	@$(BUILD)/heed_bench

clean:
	rm -rf $(BUILD) $(ASAN) $(NEON) $(AVX2) $(BUILD).log $(ASAN).log $(NEON).log $(AVX2).log
