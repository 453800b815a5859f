# Generates chunk-index test files for h5sparse's chunk_index tests and dumps
# get_chunk_info for each dataset as JSON.
import h5py, numpy as np, json, sys
p = sys.argv[1] if len(sys.argv) > 1 else '/tmp/chunks/index.h5'
with h5py.File(p, 'w', libver='latest') as f:
    f.create_dataset('single', data=np.arange(20, dtype='<i4').reshape(4, 5), chunks=(4, 5))
    f.create_dataset('single_f', data=np.arange(20, dtype='<i4').reshape(4, 5), chunks=(4, 5), compression='gzip')
    # implicit: early allocation, no filters, fixed maxshape
    sid = h5py.h5s.create_simple((10, 7), (12, 10))
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((3, 4))
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    h5py.h5d.create(f.id, b'implicit', h5py.h5t.STD_I32LE, sid, dcpl=dcpl)
    f['implicit'][...] = np.arange(70, dtype='<i4').reshape(10, 7)
    # fixed array, unfiltered, partial edge chunks, maxshape > shape
    d = f.create_dataset('fa', shape=(10, 7), maxshape=(20, 9), chunks=(3, 4), dtype='<i4')
    d[...] = np.arange(70).reshape(10, 7)
    d[9, 6] = 5
    # sparse fixed array: some chunks never written
    d = f.create_dataset('fa_sparse', shape=(10, 10), chunks=(2, 2), dtype='<i4')
    d[0:2, 0:2] = 1
    d[8:10, 4:6] = 2
    # filtered fixed array
    d = f.create_dataset('fa_f', data=np.arange(1000, dtype='<i8'), chunks=(100,), compression='gzip', shuffle=True)
    # paged fixed array (>1024 chunks), filtered and unfiltered
    d = f.create_dataset('fa_paged', shape=(3000,), chunks=(1,), dtype='u1')
    d[...] = np.arange(3000) % 251
    d = f.create_dataset('fa_paged_sparse', shape=(5000,), chunks=(1,), dtype='u1')
    d[1500] = 7  # only page 1 initialised
    d[4999] = 9  # last (partial) page
    d = f.create_dataset('fa_paged_f', data=np.arange(2100, dtype='<i4'), chunks=(1,), compression='gzip')
    # extensible arrays
    d = f.create_dataset('ea1', shape=(0,), maxshape=(None,), chunks=(1,), dtype='<i4')
    d.resize((700,)); d[...] = np.arange(700)
    d = f.create_dataset('ea2', shape=(10, 5), maxshape=(None, 5), chunks=(2, 2), dtype='<i4')
    d[...] = np.arange(50).reshape(10, 5)
    d = f.create_dataset('ea_mid', shape=(4, 6, 3), maxshape=(5, None, 3), chunks=(2, 2, 2), dtype='u1')
    d[...] = np.arange(72).reshape(4, 6, 3)
    d = f.create_dataset('ea_f', shape=(300,), maxshape=(None,), chunks=(2,), dtype='<i4', compression='gzip')
    d[...] = np.arange(300)
    d = f.create_dataset('ea_big', shape=(70000,), maxshape=(None,), chunks=(1,), dtype='u1')
    d[...] = 3
    d = f.create_dataset('ea_sparse', shape=(100000,), maxshape=(None,), chunks=(1,), dtype='u1')
    d[99990] = 1
    d[5] = 1
    # chunk written with the filter skipped
    # filters on real data: 10x-style shuffle+gzip, fletcher32, lzf
    f.create_dataset('pipe_10x', data=np.arange(4000, dtype='<i4') // 3, chunks=(800,), compression='gzip',
                     compression_opts=4, shuffle=True)
    f.create_dataset('pipe_all', data=np.arange(3000, dtype='<f8') / 7, chunks=(600,), compression='gzip',
                     shuffle=True, fletcher32=True)
    f.create_dataset('pipe_lzf', data=np.arange(3000, dtype='<i8') // 5, chunks=(500,), compression='lzf',
                     shuffle=True)
    d = f.create_dataset('pipe_lzf_raw', shape=(64,), chunks=(16,), dtype='u1', compression='lzf')
    d[...] = np.random.default_rng(2).integers(0, 256, 64, dtype='u1')
    d = f.create_dataset('masked', shape=(8,), chunks=(4,), dtype='<i4', compression='gzip')
    d[...] = np.arange(8)
    d.id.write_direct_chunk((4,), np.arange(10, 14, dtype='<i4').tobytes(), filter_mask=1)

out = {}
with h5py.File(p, 'r') as f:
    for name, d in f.items():
        # chunk_iter (like get_chunk_info*) is fast but, for an extensible
        # array whose unlimited dimension is not the first, HDF5 2.0 reports
        # wrong offsets and misses chunks. There, read every chunk of the
        # current grid with read_direct_chunk (which goes through the index's
        # get_addr, the path reads use); the address is then unknown and the
        # test compares the bytes at the address it finds instead.
        rows = []
        if None in d.maxshape[1:]:
            grid = [-(-s // c) for s, c in zip(d.shape, d.chunks)]
            for scaled in np.ndindex(*grid):
                off = tuple(int(i) * c for i, c in zip(scaled, d.chunks))
                try:
                    mask, raw = d.id.read_direct_chunk(off)
                except Exception:
                    continue
                rows.append([list(off), mask, None, len(raw), raw.hex()])
        else:
            infos = []
            d.id.chunk_iter(infos.append)
            for c in infos:
                row = [list(c.chunk_offset), c.filter_mask, c.byte_offset, c.size]
                if len(infos) <= 200:
                    row.append(d.id.read_direct_chunk(c.chunk_offset)[1].hex())
                    # The decoded chunk, for chunks wholly inside the data
                    # (edge chunks hold unspecified padding).
                    end = [o + k for o, k in zip(c.chunk_offset, d.chunks)]
                    if all(e <= s for e, s in zip(end, d.shape)):
                        sl = tuple(slice(o, e) for o, e in zip(c.chunk_offset, end))
                        row.append(np.ascontiguousarray(d[sl]).tobytes().hex())
                rows.append(row)
        out[name] = dict(ohdr=h5py.h5o.get_info(d.id).addr, shape=d.shape, maxshape=[(-1 if m is None else m) for m in d.maxshape], chunks=d.chunks,
                         itemsize=d.dtype.itemsize, filtered=d.id.get_create_plist().get_nfilters() > 0,
                         chunks_info=rows)
json.dump(out, open(p + '.json', 'w'))
for k, v in out.items():
    print(k, len(v['chunks_info']), v['chunks_info'][:2])
