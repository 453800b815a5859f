// A reader for h5sparse's `H5File.open` over a local file in node (what `blobReader` is in
// the browser): positional reads, counted.
import fs from "node:fs";

export function fileReader(file) {
  const fd = fs.openSync(file, "r");
  const reads = { count: 0, bytes: 0 };
  return {
    name: file,
    length: fs.fstatSync(fd).size,
    reads,
    read(offset, length) {
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = fs.readSync(fd, buf, done, length - done, offset + done);
        if (n === 0) throw new Error(`${file}: end of file at ${offset + done}`);
        done += n;
      }
      reads.count += 1;
      reads.bytes += length;
      return buf;
    },
    close: () => fs.closeSync(fd),
  };
}
