// Node.js 24 (V8 13.6): RegExp.escape, Float16Array, explicit resource management
// (`using`), and the ES2025 Set and iterator helpers.
const input = "1.5+2 (cost)";
const pattern = new RegExp(RegExp.escape(input));
console.log("escaped matches:", pattern.test(`total: ${input}`));

const halves = Float16Array.of(0.1, 1 / 3, 65504);
console.log("float16:", [...halves].map((x) => x.toFixed(4)).join(" "));

function resource(name) {
  console.log(`open ${name}`);
  return { [Symbol.dispose]() { console.log(`close ${name}`); } };
}
{
  using a = resource("a");
  using b = resource("b");
  console.log("inside the block");
}

const odd = new Set([1, 3, 5, 7]);
const primes = new Set([2, 3, 5, 7]);
console.log("odd primes:", [...odd.intersection(primes)].join(","));
const squares = [1, 2, 3, 4, 5].values().map((n) => n * n).filter((n) => n % 2).toArray();
console.log("odd squares:", squares.join(","));
