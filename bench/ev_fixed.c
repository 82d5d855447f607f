#include "bench/ev_fixed.h"
#include "kernels/err.h"
#include "kernels/l2row.h"
#include <math.h>
#include <string.h>

void evfx_init(evfx_state *s, const char *const *rows, int n_rows) {
    memset(s, 0, sizeof *s);
    s->quant = s->emu = -1;
    for (int r = 0; r < n_rows; r++) {
        if (!strcmp(rows[r], "fw-quant")) s->quant = r;
        if (!strcmp(rows[r], "loihi2-emu")) s->emu = r;
    }
}

void evfx_episode(evfx_state *s, const float *logits, int n_q, int n_labels, int n_way) {
    if (s->quant < 0 || s->emu < 0) return;
    for (int j = 0; j < n_q; j++) {
        const float *a = logits + ((size_t)s->quant * n_q + j) * n_labels;
        const float *b = logits + ((size_t)s->emu * n_q + j) * n_labels;
        int pa = 0, pb = 0;
        for (int i = 1; i < n_way; i++) {
            if (a[i] > a[pa]) pa = i;
            if (b[i] > b[pb]) pb = i;
        }
        // Bit-for-bit over the answered labels (memcmp: -0.0 vs 0.0 or NaNs count as different).
        s->logit_mismatches += memcmp(a, b, (size_t)n_way * sizeof(float)) != 0;
        s->pred_mismatches += pa != pb;
        for (int i = 0; i < n_way; i++) s->max_abs_diff = fmax(s->max_abs_diff, fabs((double)a[i] - b[i]));
        s->queries_compared++;
    }
}

int evfx_write(const evfx_state *s, const dec_row *rows, h5r_run *run) {
    int fx = s->quant >= 0 ? s->quant : s->emu;
    if (fx >= 0 && rows[fx].aux) h5r_attr_i64(run, "quant_qat_steps", ((const fq_model *)rows[fx].aux)->qat_steps);
    if (s->quant >= 0 && s->emu >= 0) {
        h5r_attr_i64(run, "fw_quant_loihi2_emu_queries_compared", s->queries_compared);
        h5r_attr_i64(run, "fw_quant_loihi2_emu_logit_mismatches", s->logit_mismatches);
        h5r_attr_i64(run, "fw_quant_loihi2_emu_prediction_mismatches", s->pred_mismatches);
        h5r_attr_f64(run, "fw_quant_loihi2_emu_max_abs_logit_diff", s->max_abs_diff);
    }
    if (s->emu < 0) return 0;
    const fq_model *q = rows[s->emu].aux;
    h5r_attr_str(run, "loihi2_rule", q && q->emu_rule ? q->emu_rule : L2ROW_RULE);
    l2row_stats st;
    int rc = l2row_get_stats(&rows[s->emu], &st);
    if (rc) return rc;
    h5r_table *t = h5r_run_table(run, "loihi2");
    int c_kind = h5r_table_col(t, "kind", H5R_STR, 8), c_n = h5r_table_col(t, "tokens", H5R_I64, 0),
        c_ts = h5r_table_col(t, "timesteps_per_token", H5R_F64, 0), c_so = h5r_table_col(t, "syn_ops_per_token", H5R_F64, 0),
        c_nu = h5r_table_col(t, "neuron_updates_per_token", H5R_F64, 0),
        c_le = h5r_table_col(t, "learning_evals_per_token", H5R_F64, 0),
        c_wu = h5r_table_col(t, "weight_updates_per_token", H5R_F64, 0),
        c_sp = h5r_table_col(t, "spikes_per_token", H5R_F64, 0), c_ms = h5r_table_col(t, "messages_per_token", H5R_F64, 0),
        c_hp = h5r_table_col(t, "mesh_hops_per_token", H5R_F64, 0), c_co = h5r_table_col(t, "cores", H5R_I64, 0),
        c_ch = h5r_table_col(t, "chips", H5R_I64, 0), c_e = h5r_table_col(t, "energy_j_per_token_modelled", H5R_F64, 0),
        c_t = h5r_table_col(t, "time_s_per_token_modelled", H5R_F64, 0);
    if (!t || c_t < 0) return err_set(ERR_NOMEM, "out of memory for the loihi2 table");
    const char *kinds[3] = {"support", "query", "all"};
    for (int k = 0; k < 3; k++) {
        l2_counters c = {0};
        double n = 0, en = 0, ti = 0;
        for (int j = 0; j < 2; j++) {
            if (k < 2 && j != k) continue;
            const l2_counters *a = &st.ctr[j];
            c.syn_ops += a->syn_ops; c.neuron_updates += a->neuron_updates; c.spikes += a->spikes;
            c.messages += a->messages; c.mesh_hops += a->mesh_hops; c.learn_evals += a->learn_evals;
            c.weight_updates += a->weight_updates; c.timesteps += a->timesteps;
            n += st.tokens[j]; en += st.energy_j[j]; ti += st.time_s[j];
        }
        if (n == 0) continue;
        long row = h5r_table_row(t);
        if (row < 0) return err_set(ERR_NOMEM, "out of memory for the loihi2 table");
        h5r_set_str(t, c_kind, row, kinds[k]);
        h5r_set_i64(t, c_n, row, (int64_t)n);
        h5r_set_f64(t, c_ts, row, c.timesteps / n);
        h5r_set_f64(t, c_so, row, c.syn_ops / n);
        h5r_set_f64(t, c_nu, row, c.neuron_updates / n);
        h5r_set_f64(t, c_le, row, c.learn_evals / n);
        h5r_set_f64(t, c_wu, row, c.weight_updates / n);
        h5r_set_f64(t, c_sp, row, c.spikes / n);
        h5r_set_f64(t, c_ms, row, c.messages / n);
        h5r_set_f64(t, c_hp, row, c.mesh_hops / n);
        h5r_set_i64(t, c_co, row, st.cores);
        h5r_set_i64(t, c_ch, row, st.chips);
        h5r_set_f64(t, c_e, row, en / n);
        h5r_set_f64(t, c_t, row, ti / n);
    }
    // The cost model's constants, stored with the numbers they produced.
    l2_cost_params cp;
    l2_cost_default(&cp);
    h5r_table *tc = h5r_run_table(run, "loihi2_cost_constants");
    int k_name = h5r_table_col(tc, "name", H5R_STR, 48), k_val = h5r_table_col(tc, "value", H5R_F64, 0),
        k_unit = h5r_table_col(tc, "unit", H5R_STR, 16), k_src = h5r_table_col(tc, "source", H5R_STR, 160);
    if (!tc || k_src < 0) return err_set(ERR_NOMEM, "out of memory for the loihi2 cost table");
    for (int i = 0; i < L2_N_COST; i++) {
        long row = h5r_table_row(tc);
        if (row < 0) return err_set(ERR_NOMEM, "out of memory for the loihi2 cost table");
        h5r_set_str(tc, k_name, row, cp.c[i].name);
        h5r_set_f64(tc, k_val, row, cp.c[i].value);
        h5r_set_str(tc, k_unit, row, cp.c[i].unit);
        h5r_set_str(tc, k_src, row, cp.c[i].source);
    }
    h5r_attr_str(run, "loihi2_schedule", "8 timesteps per layer, t_epoch 8, token stride 8 (L+1), logits at s0 + 8 L + 1 "
                                         "(kernels/l2row.c); the rule is loihi2_rule");
    return 0;
}
