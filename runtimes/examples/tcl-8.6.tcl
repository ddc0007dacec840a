# Tcl 8.6: dictionaries with dict map, lmap, and try/finally with coroutines.
set capitals [dict create France Paris Japan Tokyo Peru Lima]
set upper [dict map {country city} $capitals { string toupper $city }]
dict for {country city} $upper { puts "$country -> $city" }

puts "lengths: [lmap city [dict values $capitals] { string length $city }]"

proc counter {} {
    yield
    set n 0
    while 1 { yield [incr n] }
}
coroutine next counter
puts "counted: [next] [next] [next]"

try {
    expr {1 / 0}
} trap {ARITH DIVZERO} {message} {
    puts "caught: $message"
} finally {
    puts "tcl [info tclversion]"
}
