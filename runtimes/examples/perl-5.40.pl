# Perl 5.40: try/catch is stable, and true/false come from builtin.
use v5.40;

sub divide ($a, $b) {
    die "division by zero\n" if $b == 0;
    return $a / $b;
}

try {
    say "6 / 3 = ", divide(6, 3);
    divide(1, 0);
}
catch ($error) {
    chomp $error;
    say "caught: $error";
}
say "true is ", (true ? "true" : "false");
