#include "kernels/h5io.h"
#include <limits.h>
#include <string.h>

int h5io_write_i64(hid_t obj, const char *name, long long v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_LLONG, &v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc < 0;
}

int h5io_read_i64(hid_t obj, const char *name, long long *v) {
    if (H5Aexists(obj, name) <= 0) return 1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    herr_t rc = H5Aread(a, H5T_NATIVE_LLONG, v);
    H5Aclose(a);
    return rc < 0;
}

int h5io_read_int(hid_t obj, const char *name, int *v) {
    long long x;
    if (h5io_read_i64(obj, name, &x) || x < INT_MIN || x > INT_MAX) return 1;
    *v = (int)x;
    return 0;
}

int h5io_write_str(hid_t obj, const char *name, const char *v) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(v) + 1);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, t, v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return rc < 0;
}

int h5io_read_str(hid_t obj, const char *name, char *out, size_t n) {
    if (H5Aexists(obj, name) <= 0) return 1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t t = H5Aget_type(a);
    size_t sz = H5Tget_size(t);
    int bad = H5Tget_class(t) != H5T_STRING || H5Tis_variable_str(t) > 0 || sz >= n;
    if (!bad) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, sz);
        bad = H5Aread(a, mt, out) < 0;
        out[sz] = 0;
        H5Tclose(mt);
    }
    H5Tclose(t);
    H5Aclose(a);
    return bad;
}

int h5io_write_f32(hid_t g, const char *name, const float *p, size_t n) {
    hsize_t dims[1] = {n ? n : 1};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t ds = H5Dcreate2(g, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = ds < 0 ? -1 : (n ? H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, p) : 0);
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(sp);
    return rc < 0;
}

int h5io_read_f32(hid_t g, const char *name, float *p, size_t n) {
    hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
    if (ds < 0) return 1;
    hid_t sp = H5Dget_space(ds);
    int ok = H5Sget_simple_extent_ndims(sp) == 1 && H5Sget_simple_extent_npoints(sp) == (hssize_t)n;
    H5Sclose(sp);
    herr_t rc = ok ? H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, p) : -1;
    H5Dclose(ds);
    return rc < 0;
}
