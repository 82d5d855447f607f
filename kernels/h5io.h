// h5io — the few HDF5 attribute and dataset helpers the model file and the trainer's
// checkpoints share. Each returns 0 on success and non-zero on failure (the caller names the
// file in its error message).
#ifndef NEUROICL_H5IO_H
#define NEUROICL_H5IO_H
#include <hdf5.h>
#include <stddef.h>

int h5io_write_i64(hid_t obj, const char *name, long long v);
int h5io_read_i64(hid_t obj, const char *name, long long *v);
int h5io_read_int(hid_t obj, const char *name, int *v);  // an integer attribute into an int
int h5io_write_str(hid_t obj, const char *name, const char *v);
int h5io_read_str(hid_t obj, const char *name, char *out, size_t n);  // fails if it does not fit
// 1-D float32 dataset of n values (a zero-length array is stored as one unread value).
int h5io_write_f32(hid_t g, const char *name, const float *p, size_t n);
int h5io_read_f32(hid_t g, const char *name, float *p, size_t n);  // fails unless exactly n

#endif
