// Kotlin 1.3 (Debian's kotlin package): data classes, sealed classes in an exhaustive
// `when`, extension functions, and sequences.
sealed class Shape
data class Circle(val r: Double) : Shape()
data class Rect(val w: Double, val h: Double) : Shape()

fun Shape.area(): Double = when (this) {
    is Circle -> Math.PI * r * r
    is Rect -> w * h
}

fun main() {
    val shapes = listOf(Circle(1.0), Rect(2.0, 3.0), Circle(0.5))
    for (s in shapes) println("$s area=${"%.2f".format(s.area())}")
    val moved = Rect(2.0, 3.0).copy(h = 4.0)
    println("copy: $moved, equal to original: ${moved == Rect(2.0, 3.0)}")
    val fib = generateSequence(1 to 1) { (a, b) -> b to a + b }.map { it.first }
    println("fibonacci: ${fib.take(10).joinToString()}")
}
