// Node.js 20 (V8 11.3) brought ES2023's change-by-copy array methods.
const scores = [42, 7, 19, 88, 3];

const sorted = scores.toSorted((a, b) => a - b);   // a sorted copy
const reversed = scores.toReversed();               // a reversed copy
const replaced = scores.with(1, 70);                // a copy with one element changed

console.log("original:", scores);
console.log("sorted:  ", sorted);
console.log("reversed:", reversed);
console.log("replaced:", replaced);
console.log("last even:", scores.findLast((n) => n % 2 === 0));
