// Cost model: counters -> modelled energy and time. No per-operation energy of Loihi 2 is
// published that we could find, so the constants are Loihi 1 figures (Davies et al. 2018,
// IEEE Micro 38(1), "Loihi: a neuromorphic manycore processor with on-chip learning"), each a
// named parameter with its source; every name says "modelled". Stored with each result.
#include "kernels/loihi2/internal.h"
#include <string.h>

void l2_cost_default(l2_cost_params *p) {
    static const l2_cost_const d[L2_N_COST] = {
        [L2_C_E_SYNOP] = {"e_synop_pj_modelled", 23.6, "pJ",
                          "Loihi 1 synaptic op, Davies et al. 2018 (IEEE Micro) via LOIHI2.md"},
        [L2_C_E_WUPDATE] = {"e_weight_update_pj_modelled", 120.0, "pJ",
                            "Loihi 1 synaptic weight update, Davies et al. 2018 via LOIHI2.md"},
        [L2_C_E_NEURON_INACTIVE] = {"e_neuron_update_inactive_pj_modelled", 52.0, "pJ",
                                    "Loihi 1 neuron update (inactive), Davies et al. 2018 via LOIHI2.md"},
        [L2_C_E_NEURON_ACTIVE] = {"e_neuron_update_active_pj_modelled", 81.0, "pJ",
                                  "Loihi 1 neuron update (active), Davies et al. 2018 via LOIHI2.md"},
        [L2_C_E_HOP] = {"e_mesh_hop_pj_modelled", 3.5, "pJ",
                        "LOIHI2.md 'mesh hop a few pJ'; 3.5 pJ is our pick inside that range (disputed)"},
        [L2_C_T_SYNOP] = {"t_synop_ns_modelled", 3.5, "ns",
                          "Loihi 1 synaptic op latency, Davies et al. 2018 via LOIHI2.md"},
        [L2_C_T_WUPDATE] = {"t_weight_update_ns_modelled", 6.1, "ns",
                            "Loihi 1 weight update latency, Davies et al. 2018 via LOIHI2.md"},
        [L2_C_T_NEURON] = {"t_neuron_update_ns_modelled", 0.0, "ns",
                           "not given in LOIHI2.md; 0 = neuron updates assumed hidden behind synaptic ops"},
        [L2_C_T_HOP] = {"t_mesh_hop_ns_modelled", 0.0, "ns",
                        "not given in LOIHI2.md; 0 = mesh latency not modelled"},
        [L2_C_SPEEDUP] = {"loihi2_speedup_over_loihi1_modelled", 1.0, "x",
                          "Intel: Loihi 2 'up to 10x faster' than Loihi 1; 1 = not applied by default"},
    };
    memcpy(p->c, d, sizeof d);
}

static double core_energy_pj(const l2_cost_params *p, const l2_counters *k) {
    int64_t active = k->spikes < k->neuron_updates ? k->spikes : k->neuron_updates;
    return k->syn_ops * p->c[L2_C_E_SYNOP].value + k->weight_updates * p->c[L2_C_E_WUPDATE].value +
           (k->neuron_updates - active) * p->c[L2_C_E_NEURON_INACTIVE].value +
           active * p->c[L2_C_E_NEURON_ACTIVE].value + k->mesh_hops * p->c[L2_C_E_HOP].value;
}

static double core_time_ns(const l2_cost_params *p, const l2_counters *k) {
    // A weight update is charged per evaluated synapse: the engine reads and writes each one.
    double t = k->syn_ops * p->c[L2_C_T_SYNOP].value + k->learn_evals * p->c[L2_C_T_WUPDATE].value +
               k->neuron_updates * p->c[L2_C_T_NEURON].value + k->mesh_hops * p->c[L2_C_T_HOP].value;
    return t / p->c[L2_C_SPEEDUP].value;
}

void l2_cost_add_step(const l2_cost_params *p, const l2_sim *s, l2_cost_estimate *e) {
    double worst = 0;
    for (int c = 0; c < s->map.n_cores; c++) {
        const l2_counters *k = &s->last[c];
        e->energy_j_modelled += core_energy_pj(p, k) * 1e-12;
        double t = core_time_ns(p, k);
        if (t > worst) worst = t;
    }
    e->time_s_modelled += worst * 1e-9;
    e->steps++;
}

void l2_cost_estimate_total(const l2_cost_params *p, const l2_sim *s, l2_cost_estimate *e) {
    memset(e, 0, sizeof *e);
    double worst = 0;
    for (int c = 0; c < s->map.n_cores; c++) {
        const l2_counters *k = &s->cum[c];
        e->energy_j_modelled += core_energy_pj(p, k) * 1e-12;
        double t = core_time_ns(p, k);
        if (t > worst) worst = t;
        if (k->timesteps > e->steps) e->steps = k->timesteps;
    }
    e->time_s_modelled = worst * 1e-9;
}
