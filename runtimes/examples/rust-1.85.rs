// Rust 1.85: async closures are stable; let-else (1.65) and is_some_and (1.70).
fn parse_pair(text: &str) -> Option<(i32, i32)> {
    let Some((a, b)) = text.split_once(',') else {
        return None;
    };
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

fn main() {
    let pair = parse_pair("3, 4");
    println!("pair: {:?}", pair);
    println!("sum is 7: {}", pair.is_some_and(|(a, b)| a + b == 7));
    let add_async = async |x: i32| x + 1; // an async closure, stable in 1.85
    let _future = add_async(1);
    println!("no pair: {:?}", parse_pair("nothing"));
}
