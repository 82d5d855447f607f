// Trace arithmetic of the learning engine: one step of stochastic-rounded decay, impulse
// addition with an 8-bit fraction, and the graded-spike payload -> 8-bit key conversion.
// Random numbers come from the caller (the connection's rng_t stream).
#include "kernels/loihi2/internal.h"

// v * exp(-1/tau), floor, plus 1 with probability equal to the dropped fraction. The factor is
// held in 1/65536 (quantised once from the exact double); r16 is uniform in [0, 65536).
uint8_t l2_trace_decay(uint8_t v, uint32_t decay_q16, uint32_t r16) {
    uint32_t p = (uint32_t)v * decay_q16;
    return (uint8_t)((p >> 16) + ((p & 0xFFFFu) > r16));
}

// v + impulse: the integer part, plus 1 with probability frac/256; clipped to 0..127.
// r8 is uniform in [0, 256).
uint8_t l2_trace_impulse(uint8_t v, int imp_int, int imp_frac, uint32_t r8) {
    int x = v + imp_int + ((uint32_t)imp_frac > r8);
    return (uint8_t)(x > L2_TRACE_MAX ? L2_TRACE_MAX : x);
}

// Lava's np.round(payload / 2) (half to even) then astype(uint8): the key wraps to 8 bits.
int l2_payload_to_key(int32_t payload) {
    int32_t h = payload >> 1;                  // floor(payload / 2)
    if ((payload & 1) && (h & 1)) h += 1;      // exact .5: round to the even neighbour
    return (int)((uint32_t)h & 0xFFu);
}
