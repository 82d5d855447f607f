// Mapping a network onto neuro-cores. Each population is split into equal chunks, one chunk per
// core (cores are not shared between populations); a core holds its neurons and all synapses
// into them (fan-in), as on Loihi where synapses live with the destination neuron. Host input
// ports live on the host and take no neuro-core. Memory per core is modelled from bit widths
// (see README.md, "Mapping"); the limits are parameters with defaults from LOIHI2.md.
#include "kernels/loihi2/internal.h"
#include "kernels/err.h"
#include <stdlib.h>
#include <string.h>

void l2_core_limits_default(l2_core_limits *lim) {
    lim->max_neurons_per_core = 8192;      // ~1M neurons per chip / 128 cores (LOIHI2.md)
    lim->synapse_mem_bytes = 128 * 1024;   // LOIHI2.md: 128-192 KB; the low end by default
    lim->cores_per_chip = 128;
    lim->max_chips = 1;
    lim->mesh_width = 8;                   // modelled 8 x 16 mesh of one chip
}

// Modelled synapse bits: the stored weight mantissa; learning synapses keep the full 9-bit
// signed weight plus their tags.
static int synapse_bits(const l2_conn *c) {
    if (!c->learning) return c->d.num_weight_bits;
    return 9 + (c->rule.present[L2_TGT_D] ? 8 : 0) + (c->rule.present[L2_TGT_T] ? 9 : 0);
}

void l2_mapping_free(l2_mapping *m) {
    if (!m) return;
    free(m->pop_core0);
    free(m->pop_ncores);
    free(m->pop_per_core);
    free(m->core_syn_bytes);
    free(m->core_neurons);
    memset(m, 0, sizeof *m);
}

int l2_map(const l2_net *net, const l2_core_limits *lim, l2_mapping *out) {
    memset(out, 0, sizeof *out);
    if (!net || !lim) return err_set(ERR_ARG, "loihi2 map: NULL argument");
    if (lim->max_neurons_per_core < 1 || lim->synapse_mem_bytes < 1 || lim->cores_per_chip < 1 ||
        lim->max_chips < 1 || lim->mesh_width < 1)
        return err_set(ERR_ARG, "loihi2 map: core limits must be positive");
    int np = net->n_pops;
    out->pop_core0 = calloc((size_t)np + 1, sizeof(int));
    out->pop_ncores = calloc((size_t)np + 1, sizeof(int));
    out->pop_per_core = calloc((size_t)np + 1, sizeof(int));
    if (!out->pop_core0 || !out->pop_ncores || !out->pop_per_core) {
        l2_mapping_free(out);
        return err_set(ERR_NOMEM, "loihi2 map: out of memory");
    }
    long mem_bits = lim->synapse_mem_bytes * 8;
    long max_cores = (long)lim->cores_per_chip * lim->max_chips;
    long total = 0;
    for (int p = 0; p < np; p++) {
        const l2_pop_desc *d = &net->pops[p];
        if (d->model == L2_INPUT) {
            out->pop_core0[p] = -1;
            out->pop_per_core[p] = d->n;
            continue;
        }
        double per_post = 0, fixed = 0;   // bits per neuron of this population, bits per core
        for (int k = 0; k < net->n_conns; k++) {
            const l2_conn *c = &net->conns[k];
            if (c->d.dst != p) continue;
            per_post += (double)c->n_pre * synapse_bits(c);
            if (c->learning) {
                per_post += 3 * 7 + 6;          // y1..y3, ty
                fixed += (double)c->n_pre * 20; // x1, x2 (7 bits), tx (6 bits) per axon
            }
        }
        long k_max = lim->max_neurons_per_core;
        if (per_post > 0) {
            double fit = ((double)mem_bits - fixed) / per_post;
            if (fit < 1) {
                l2_mapping_free(out);
                return err_set(ERR_RANGE,
                               "loihi2 map: population %d (%s): one neuron needs %.0f bytes of synapse memory, "
                               "more than the per-core limit synapse_mem_bytes=%ld",
                               p, d->name[0] ? d->name : "unnamed", (per_post + fixed) / 8, lim->synapse_mem_bytes);
            }
            if (fit < k_max) k_max = (long)fit;
        }
        long nc = (d->n + k_max - 1) / k_max;
        int per = (int)((d->n + nc - 1) / nc);   // balance the chunks
        out->pop_core0[p] = (int)total;
        out->pop_ncores[p] = (int)nc;
        out->pop_per_core[p] = per;
        total += nc;
        if (total > max_cores) {
            l2_mapping_free(out);
            return err_set(ERR_RANGE,
                           "loihi2 map: network needs more than %ld neuro-cores (limit cores_per_chip=%d x max_chips=%d), "
                           "reached at population %d (%s)",
                           max_cores, lim->cores_per_chip, lim->max_chips, p, d->name[0] ? d->name : "unnamed");
        }
    }
    out->n_cores = (int)total;
    out->cores_per_chip = lim->cores_per_chip;
    out->mesh_width = lim->mesh_width;
    out->n_chips = (int)((total + lim->cores_per_chip - 1) / lim->cores_per_chip);
    out->core_syn_bytes = calloc((size_t)total + 1, sizeof(long));
    out->core_neurons = calloc((size_t)total + 1, sizeof(int));
    if (!out->core_syn_bytes || !out->core_neurons) {
        l2_mapping_free(out);
        return err_set(ERR_NOMEM, "loihi2 map: out of memory");
    }
    for (int p = 0; p < np; p++) {
        if (out->pop_core0[p] < 0) continue;
        for (int c = 0; c < out->pop_ncores[p]; c++) {
            int core = out->pop_core0[p] + c;
            int i0 = c * out->pop_per_core[p];
            int i1 = i0 + out->pop_per_core[p];
            if (i1 > net->pops[p].n) i1 = net->pops[p].n;
            out->core_neurons[core] = i1 - i0;
            double bits = 0;
            for (int k = 0; k < net->n_conns; k++) {
                const l2_conn *cn = &net->conns[k];
                if (cn->d.dst != p) continue;
                bits += (double)(i1 - i0) * cn->n_pre * synapse_bits(cn);
                if (cn->learning) bits += (double)(i1 - i0) * 27 + (double)cn->n_pre * 20;
            }
            out->core_syn_bytes[core] = (long)((bits + 7) / 8);
        }
    }
    return 0;
}

int l2_mapping_cores_on_chip(const l2_mapping *m, int chip) {
    if (!m || chip < 0 || chip >= m->n_chips) return 0;
    int left = m->n_cores - chip * m->cores_per_chip;
    return left < m->cores_per_chip ? left : m->cores_per_chip;
}
