// Java 21: record patterns in switch (JEP 440, 441) and virtual threads (JEP 444).
public class Main {
    sealed interface Shape permits Circle, Square {}
    record Circle(double radius) implements Shape {}
    record Square(double side) implements Shape {}

    static double area(Shape shape) {
        return switch (shape) {
            case Circle(double r) -> Math.PI * r * r;
            case Square(double s) -> s * s;
        };
    }

    public static void main(String[] args) throws Exception {
        System.out.printf("circle: %.2f%n", area(new Circle(1)));
        System.out.printf("square: %.2f%n", area(new Square(2)));
        Thread thread = Thread.ofVirtual().start(() -> System.out.println("hello from a virtual thread"));
        thread.join();
        System.out.println("version: " + Runtime.version().feature());
    }
}
