// Runs a Python script under the MicroPython WebAssembly port, with files in its /fw folder.
// usage: node run.mjs PACKAGE_DIR SCRIPT FILE...   (FILEs are copied to /fw, which is on sys.path)
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";

const [packageDir, script, ...files] = process.argv.slice(2);
const { loadMicroPython } = await import(pathToFileURL(join(packageDir, "micropython.mjs")).href);
const mp = await loadMicroPython({ heapsize: 4 * 1024 * 1024, stdout: (d) => process.stdout.write(d), linebuffer: false });
mp.FS.mkdir("/fw");
for (const file of files) mp.FS.writeFile("/fw/" + basename(file), readFileSync(file));
try {
  mp.runPython("import sys\nsys.path.insert(0, '/fw')\n" + readFileSync(script, "utf8"));
} catch (error) {
  if (error.name !== "PythonError") throw error;
  process.stdout.write("\nPYTHON ERROR " + error.type + ": " + error.message + "\n");
  process.exit(1);
}
