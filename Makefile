# neuroicl — build, test, run.  `make run` does everything on a fresh Debian machine.
CC      ?= cc
PKGS    := hdf5 papi libpng libzip zlib
OPT     ?= -O3 -march=native
CFLAGS  ?= $(OPT) -g
NEUROICL_VERSION := 0.1.0
GIT_DESCRIBE := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
# -fno-trapping-math: nothing here uses floating-point exceptions; it lets gcc if-convert and
# vectorise loops with float compares (the softmax exponentials), without changing results.
ALL_CFLAGS := $(CFLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra -fno-trapping-math -fopenmp -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# recorded in every results file
ALL_CFLAGS += -DNEUROICL_CFLAGS='"$(strip $(CFLAGS))"' -DNEUROICL_CC='"$(CC)"' \
              -DNEUROICL_VERSION='"$(NEUROICL_VERSION)"' -DNEUROICL_GIT='"$(GIT_DESCRIBE)"'
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -fopenmp
TEST_LDLIBS := $(shell pkg-config --libs criterion 2>/dev/null)

BUILD   ?= build
LIB_SRC := $(wildcard kernels/*.c kernels/loihi2/*.c datasets/*.c bench/*.c reports/*.c)
LIB_SRC := $(filter-out bench/main.c,$(LIB_SRC))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

RESULTS ?= results/neuroicl.h5
MODEL   ?= models/default.h5

.PHONY: all deps run test figures clean sanitize reproduce reproduce-quick variants

all: bin/neuroicl

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

bin/neuroicl: $(LIB_OBJ) $(BUILD)/bench/main.o
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

bin/tests: $(LIB_OBJ) $(TEST_OBJ)
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LDLIBS)

deps:
	@bash scripts/install-deps.sh

# The main job: train the default model if missing, evaluate every row, write figures.
run: deps
	@$(MAKE) --no-print-directory bin/neuroicl
	@bash scripts/run-main.sh

test: deps
	@$(MAKE) --no-print-directory bin/tests bin/neuroicl build/test-model.h5
	./bin/tests --jobs 2

# A tiny model (procedural glyphs, a few steps) for the command-line tests.
build/test-model.h5: bin/neuroicl
	./bin/neuroicl train --task glyphs --quick --max-classes 40 --out $@ 2>/dev/null

figures: bin/neuroicl
	./bin/neuroicl report $(RESULTS)

# Address/UB sanitizer build of the tests (separate build dir).
sanitize: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined" \
	  LDLIBS_EXTRA= bin/tests-asan

bin/tests-asan: $(LIB_SRC:%.c=build-asan/%.o) $(TEST_SRC:%.c=build-asan/%.o)
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LDLIBS)

clean:
	rm -rf build build-asan bin

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/bench/main.d

# ---- measurement layer: figures and tables of REPRODUCE.md ------------------------------
# Full (<= 15 min on 2 cores) and reduced (<= 2 min, CI). MODEL= picks the trained model used
# for accuracy vs shots (skipped when missing); OUT= and FIGS= move the outputs.
reproduce: bin/neuroicl
	bash scripts/reproduce.sh

# The paper's variant table (Float, Quant, emulator) and Lake's runs; trains/quantizes if needed.
variants: deps
	@$(MAKE) --no-print-directory bin/neuroicl
	@bash scripts/variants.sh

reproduce-quick: bin/neuroicl
	QUICK=1 bash scripts/reproduce.sh
