# One colour and point type per implementation (row), the same in every figure. Loaded by
# each figure script through the variable rowsgp, which neuroicl's report sets. A series
# label may carry a suffix ("kv-linear_d=64_H=4"): the row is matched as a prefix.
rowrgb(n) = strstrt(n, "kv-softmax") == 1 ? 0xcc3311 : \
            strstrt(n, "kv-linear") == 1  ? 0x0077bb : \
            strstrt(n, "fw-float") == 1   ? 0x009988 : \
            strstrt(n, "fw-quant") == 1   ? 0xee7733 : \
            strstrt(n, "loihi2-emu") == 1 ? 0xaa3377 : 0x555555
rowpt(n) = strstrt(n, "kv-softmax") == 1 ? 6 : \
           strstrt(n, "kv-linear") == 1  ? 7 : \
           strstrt(n, "fw-float") == 1   ? 9 : \
           strstrt(n, "fw-quant") == 1   ? 5 : \
           strstrt(n, "loihi2-emu") == 1 ? 11 : 1
# kv-softmax and kv-linear often coincide (same counted bytes): the softmax row is drawn
# wider and under the others so both stay visible.
rowlw(n) = strstrt(n, "kv-softmax") == 1 ? 3.5 : 1.5
