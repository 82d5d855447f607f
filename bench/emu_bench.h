// emu-bench — throughput of the Loihi 2 emulator (kernels/loihi2) on dense graded layers:
// synaptic ops, timesteps and learning updates per second, appended to the results file as a
// run with attribute kind = "emu-bench" and a table "emu_bench".
#ifndef NEUROICL_EMU_BENCH_H
#define NEUROICL_EMU_BENCH_H

// `neuroicl emu-bench [options]`; argv[0] is "emu-bench". Returns a process exit code:
// 0 ok, 2 bad arguments, 1 failure; on failure the one-line message is in err_msg().
int emu_bench_cmd(int argc, char **argv);

#endif
