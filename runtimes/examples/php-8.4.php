<?php
// PHP 8.4: property hooks and array_find.
class Temperature {
    public float $celsius = 0;
    public float $fahrenheit {
        get => $this->celsius * 9 / 5 + 32;
        set => $this->celsius = ($value - 32) * 5 / 9;
    }
}

$t = new Temperature();
$t->fahrenheit = 212;
echo "celsius: {$t->celsius}\n";
echo "first even: " . array_find([1, 3, 4, 6], fn($n) => $n % 2 === 0) . "\n";
echo "version: " . PHP_MAJOR_VERSION . "." . PHP_MINOR_VERSION . "\n";
