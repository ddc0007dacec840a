;; Guile 3.0: pattern matching with (ice-9 match), records, string ports and
;; exceptions raised and caught with with-exception-handler (Guile 3.0).
(use-modules (ice-9 match) (ice-9 exceptions) (srfi srfi-9) (srfi srfi-1))

(define-record-type <point> (make-point x y) point? (x point-x) (y point-y))

(define (describe shape)
  (match shape
    (('circle r) (format #f "circle of radius ~a" r))
    (('rect w h) (format #f "rect ~ax~a" w h))
    (_ "something else")))

(for-each (lambda (s) (display (describe s)) (newline))
          '((circle 2) (rect 3 4) (triangle)))

(let ((p (make-point 3 4)))
  (format #t "distance: ~a~%" (sqrt (+ (* (point-x p) (point-x p)) (* (point-y p) (point-y p))))))

(format #t "sum of squares of evens: ~a~%"
        (fold + 0 (map (lambda (n) (* n n)) (filter even? (iota 10)))))

(format #t "caught: ~a~%"
        (with-exception-handler
         (lambda (e) (exception-message e))
         (lambda () (raise-exception (make-exception-with-message "boom")))
         #:unwind? #t))
(format #t "guile ~a~%" (effective-version))
