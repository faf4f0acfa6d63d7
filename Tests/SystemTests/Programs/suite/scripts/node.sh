node -e '
const cp = require("child_process");
console.log(process.version);
console.log(cp.execFileSync(process.execPath, ["-e", "console.log(require(\"os\").platform(), 6 * 7)"]).toString().trim());
console.log(require("crypto").createHash("sha256").update("abc").digest("hex"));'
